import { managementForm } from '../../management-form.js';
import Stop from '../stop.js';

export default managementForm(Stop, 'container stop');
