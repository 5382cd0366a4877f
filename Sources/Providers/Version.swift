public enum ProvidersVersion { public static let string = "0.1.0" }
