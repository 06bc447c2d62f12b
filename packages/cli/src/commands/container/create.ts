import { managementForm } from '../../management-form.js';
import Create from '../create.js';

export default managementForm(Create, 'container create');
