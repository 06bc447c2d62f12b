import { managementForm } from '../../management-form.js';
import Commit from '../commit.js';

export default managementForm(Commit, 'container commit');
