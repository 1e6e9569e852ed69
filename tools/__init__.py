"""The domain: CRM tools, access policy, features, health, detectors, renewal model, onboarding, memory scope."""
