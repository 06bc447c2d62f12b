import { managementForm } from '../../management-form.js';
import Wait from '../wait.js';

export default managementForm(Wait, 'container wait');
