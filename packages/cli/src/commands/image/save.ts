import { managementForm } from '../../management-form.js';
import Save from '../save.js';

export default managementForm(Save, 'image save');
