import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService.js';
import { unimplemented } from './errors.js';
import type { ImageStore } from './images.js';
import type { HandlerFactory } from './rpc.js';
import type { MockProfile } from './runtime-service.js';

/** The mock's ImageService. */
export function createImageService(
  images: ImageStore,
  rpc: HandlerFactory,
  profile: MockProfile,
): ImageServiceHandlers {
  return {
    // containerd 1.6 ignores ListImages' filter (verified): so does the mock.
    ListImages: rpc.unary('ListImages', () => ({ images: images.list().map((i) => images.toCri(i)) })),
    ImageStatus: rpc.unary('ImageStatus', (req) => {
      const img = images.find(req.image?.image ?? '');
      return { image: img ? images.toCri(img) : null, info: {} };
    }),
    PullImage: rpc.unary('PullImage', async (req, ctx) => {
      const img = await images.pull(req.image?.image ?? '', ctx.signal);
      return { imageRef: img.id };
    }),
    RemoveImage: rpc.unary('RemoveImage', (req) => {
      images.remove(req.image?.image ?? '');
      return {};
    }),
    ImageFsInfo: rpc.unary('ImageFsInfo', () => ({
      imageFilesystems: [images.fsUsage()],
      containerFilesystems: [],
    })),
    StreamImages: rpc.serverStream('StreamImages', async () => {
      throw unimplemented(
        profile === 'full'
          ? 'method StreamImages not implemented'
          : 'unknown method StreamImages for service runtime.v1.ImageService',
      );
    }),
  };
}
