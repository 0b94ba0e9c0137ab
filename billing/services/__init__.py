"""Every write billing does, one module per subject: the credit ledger (`credits`), credit packs
(`packs`), Stripe Checkout (`checkout`) and its webhook (`stripe_webhook`).

Callers import from the module itself. This file imports none of them, so that code which only
moves credits (the GPU worker, via generation) never loads the Stripe SDK.
"""
