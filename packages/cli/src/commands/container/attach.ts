import { managementForm } from '../../management-form.js';
import Attach from '../attach.js';

export default managementForm(Attach, 'container attach');
