import { managementForm } from '../../management-form.js';
import Exec from '../exec.js';

export default managementForm(Exec, 'container exec');
