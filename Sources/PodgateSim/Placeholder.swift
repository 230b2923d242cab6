public enum PodgateSimPlaceholder {}
