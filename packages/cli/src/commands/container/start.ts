import { managementForm } from '../../management-form.js';
import Start from '../start.js';

export default managementForm(Start, 'container start');
