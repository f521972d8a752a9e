export {
  type FineTunedModelNameParts,
  fineTunedModelName,
  isFineTunedModelName,
  parseFineTunedModelName,
} from './names';
