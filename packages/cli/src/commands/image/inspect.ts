import { managementForm } from '../../management-form.js';
import Inspect from '../inspect.js';

export default class ImageInspect extends managementForm(Inspect, 'image inspect [OPTIONS] IMAGE [IMAGE...]') {
  static override summary = 'Display detailed information on one or more images';
  static override objectType = 'image' as const;
}
