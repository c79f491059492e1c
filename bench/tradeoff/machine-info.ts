/**
 * The machine and software a benchmark ran on, stored with every run so figures from different hosts are not mixed up.
 */
import { availableParallelism, cpus, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';
import { version as tfjsVersions } from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';

export interface MachineInfo {
  cpuModel: string;
  /** Logical cores this process may use. */
  cores: number;
  memoryGb: number;
  nodeVersion: string;
  onnxruntimeVersion: string;
  /** tfjs and its wasm backend, e.g. `4.22.0 (wasm 4.22.0)`. */
  tfjsVersion: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() || 'unknown',
    cores: availableParallelism(),
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    nodeVersion: process.version,
    onnxruntimeVersion: ort.env.versions.node ?? ort.env.versions.common,
    tfjsVersion: `${tfjsVersions.tfjs} (wasm ${version_wasm})`,
  };
}
