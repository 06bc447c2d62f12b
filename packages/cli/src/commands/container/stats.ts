import { managementForm } from '../../management-form.js';
import Stats from '../stats.js';

export default managementForm(Stats, 'container stats');
