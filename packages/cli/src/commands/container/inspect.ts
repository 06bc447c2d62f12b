import { managementForm } from '../../management-form.js';
import Inspect from '../inspect.js';

export default class ContainerInspect extends managementForm(
  Inspect,
  'container inspect [OPTIONS] CONTAINER [CONTAINER...]',
) {
  static override summary = 'Display detailed information on one or more containers';
  static override objectType = 'container' as const;
}
