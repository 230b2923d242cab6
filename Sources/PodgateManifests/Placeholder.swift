public enum PodgateManifestsPlaceholder {}
