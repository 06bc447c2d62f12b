import { managementForm } from '../../management-form.js';
import Rm from '../rm.js';

export default managementForm(Rm, 'container rm', ['container remove']);
