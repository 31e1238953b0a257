/// The nn layer re-exports the tensor core: `import TitansNN` is enough to build and train modules.
@_exported import TitansTensor
