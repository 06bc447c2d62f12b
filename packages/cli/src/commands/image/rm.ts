import { managementForm } from '../../management-form.js';
import Rmi from '../rmi.js';

export default managementForm(Rmi, 'image rm', ['image remove']);
