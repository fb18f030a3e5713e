// Opens the frame source VIDEO_SOURCE names.
import type { FrameSource } from "../frame.ts";
import { ImageFolderSource } from "./image-folder.ts";
import { parseVideoSource } from "./source-spec.ts";
import { VideoSource, type VideoSourceEvents } from "./video-source.ts";

export interface SourceOptions extends VideoSourceEvents {
  /** VIDEO_LOOP: replay a file or folder forever. */
  loop?: boolean;
}

export function openSource(videoSource: string, fps: number, options: SourceOptions = {}): FrameSource {
  const { loop = false, ...events } = options;
  const spec = parseVideoSource(videoSource, loop);
  return spec.kind === "folder"
    ? new ImageFolderSource(spec.path, fps, spec.loop)
    : new VideoSource(spec, fps, events);
}
