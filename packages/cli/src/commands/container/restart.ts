import { managementForm } from '../../management-form.js';
import Restart from '../restart.js';

export default managementForm(Restart, 'container restart');
