import { managementForm } from '../../management-form.js';
import Images from '../images.js';

export default managementForm(Images, 'image ls', ['image list']);
