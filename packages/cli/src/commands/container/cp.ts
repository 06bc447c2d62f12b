import { managementForm } from '../../management-form.js';
import Cp from '../cp.js';

export default managementForm(Cp, 'container cp');
