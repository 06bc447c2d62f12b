import { managementForm } from '../management-form.js';
import Info from './system/info.js';

export default managementForm(Info, 'info');
