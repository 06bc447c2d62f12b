/**
 * docker image history: the steps that made an image, newest first, each with the layer it added.
 * Sizes are those of the stored layer blobs; only the newest step carries the image id, as docker
 * shows pulled images ("<missing>" for the others).
 */
import type { ImageRecord } from '@hypr/core';

export interface ImageHistoryRow {
  id: string;
  createdAtMs: number;
  createdBy: string;
  sizeBytes: number;
  comment: string;
  emptyLayer: boolean;
}

export function imageHistory(image: ImageRecord): ImageHistoryRow[] {
  const steps = image.config.history?.length
    ? image.config.history
    : image.layers.map(() => ({ created: image.config.created, created_by: '', comment: '', empty_layer: false }));
  let layer = 0;
  const rows = steps.map((h) => {
    const empty = !!h.empty_layer;
    const size = empty ? 0 : (image.layers[layer++]?.size ?? 0);
    return {
      id: '<missing>',
      createdAtMs: Date.parse(h.created ?? '') || 0,
      createdBy: h.created_by ?? '',
      sizeBytes: size,
      comment: h.comment ?? '',
      emptyLayer: empty,
    };
  });
  rows.reverse();
  if (rows[0]) rows[0].id = image.configDigest;
  return rows;
}
