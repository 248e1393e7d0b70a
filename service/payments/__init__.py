"""Payments: Stripe-shaped PaymentIntents, refunds and events over VNPay, VietQR and cash on delivery."""
