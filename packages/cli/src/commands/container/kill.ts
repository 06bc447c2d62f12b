import { managementForm } from '../../management-form.js';
import Kill from '../kill.js';

export default managementForm(Kill, 'container kill');
