import { managementForm } from '../../management-form.js';
import Load from '../load.js';

export default managementForm(Load, 'image load');
