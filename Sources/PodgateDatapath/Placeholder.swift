public enum PodgateDatapathPlaceholder {}
