import { managementForm } from '../../management-form.js';
import Top from '../top.js';

export default managementForm(Top, 'container top');
