import { managementForm } from '../../management-form.js';
import Tag from '../tag.js';

export default managementForm(Tag, 'image tag');
