// Opens the frame source VIDEO_SOURCE names.
import type { FrameSource } from "../frame.ts";
import { ImageFolderSource } from "./image-folder.ts";
import { parseVideoSource } from "./source-spec.ts";
import { VideoSource, type VideoSourceEvents } from "./video-source.ts";

export function openSource(videoSource: string, fps: number, events: VideoSourceEvents = {}): FrameSource {
  const spec = parseVideoSource(videoSource);
  return spec.kind === "folder"
    ? new ImageFolderSource(spec.path, fps, spec.loop)
    : new VideoSource(spec, fps, events);
}
