import { managementForm } from '../../management-form.js';
import Build from '../build.js';

export default managementForm(Build, 'image build', ['builder build']);
