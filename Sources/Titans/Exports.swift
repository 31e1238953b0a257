/// `import Titans` brings the whole stack: tensors, nn building blocks, and the Titans models.
@_exported import TitansNN
