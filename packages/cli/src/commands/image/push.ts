import { managementForm } from '../../management-form.js';
import Push from '../push.js';

export default managementForm(Push, 'image push');
