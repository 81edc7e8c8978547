// Original file: proto/cri/api.proto


export interface CheckpointPodResponse {
}

export interface CheckpointPodResponse__Output {
}
