import { managementForm } from '../../management-form.js';
import Pull from '../pull.js';

export default managementForm(Pull, 'image pull');
