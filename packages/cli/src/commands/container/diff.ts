import { managementForm } from '../../management-form.js';
import Diff from '../diff.js';

export default managementForm(Diff, 'container diff');
