/// The data layer re-exports the tensor core, whose tensors batches are made of.
@_exported import TitansTensor
