import { managementForm } from '../../management-form.js';
import Ps from '../ps.js';

export default managementForm(Ps, 'container ls', ['container list', 'container ps']);
