/** The element arrays the reference kernels compute on: fp32 normally, fp64 for gradient checks. */
export type FloatArray = Float32Array | Float64Array;
export type IndexArray = Int32Array;
