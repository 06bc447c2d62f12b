import { managementForm } from '../../management-form.js';
import Logs from '../logs.js';

export default managementForm(Logs, 'container logs');
