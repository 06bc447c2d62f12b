import { managementForm } from '../../management-form.js';
import Rename from '../rename.js';

export default managementForm(Rename, 'container rename');
