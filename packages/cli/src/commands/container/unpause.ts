import { managementForm } from '../../management-form.js';
import Unpause from '../unpause.js';

export default managementForm(Unpause, 'container unpause');
