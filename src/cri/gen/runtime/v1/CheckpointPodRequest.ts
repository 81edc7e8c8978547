// Original file: proto/cri/api.proto


export interface CheckpointPodRequest {
  'podSandboxId'?: (string);
  'outputPath'?: (string);
  'containerIds'?: (string)[];
  'options'?: ({[key: string]: string});
}

export interface CheckpointPodRequest__Output {
  'podSandboxId': (string);
  'outputPath': (string);
  'containerIds': (string)[];
  'options': ({[key: string]: string});
}
