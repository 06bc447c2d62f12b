import { managementForm } from '../../management-form.js';
import Update from '../update.js';

export default managementForm(Update, 'container update');
