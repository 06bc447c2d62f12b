import { managementForm } from '../../management-form.js';
import Export from '../export.js';

export default managementForm(Export, 'container export');
