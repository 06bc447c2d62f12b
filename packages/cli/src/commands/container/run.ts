import { managementForm } from '../../management-form.js';
import Run from '../run.js';

export default managementForm(Run, 'container run');
