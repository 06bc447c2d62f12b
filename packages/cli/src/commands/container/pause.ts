import { managementForm } from '../../management-form.js';
import Pause from '../pause.js';

export default managementForm(Pause, 'container pause');
