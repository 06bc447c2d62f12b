// @hypr/api: the protobuf messages and Connect service descriptors generated from proto/hypr/v1
// (src/gen, never edited by hand; scripts/gen-api.sh rewrites it), the Unix-socket client and docker's units
// (also at `@hypr/api/units`, which loads no protobuf code).
export * from './client.js';
export * from './units.js';
export * from './gen/hypr/v1/containers_pb.js';
export * from './gen/hypr/v1/images_pb.js';
export * from './gen/hypr/v1/networks_pb.js';
export * from './gen/hypr/v1/system_pb.js';
export * from './gen/hypr/v1/stacks_pb.js';
export * from './gen/hypr/v1/volumes_pb.js';

/** The API version hyprd and hypr speak. */
export const API_VERSION = 'v1';
