import { managementForm } from '../../management-form.js';
import Port from '../port.js';

export default managementForm(Port, 'container port');
