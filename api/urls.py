from django.urls import path

from .views import accounts, approvals, audit, auth, bills, fx, transfers

urlpatterns = [
    path("auth/register/", auth.RegisterView.as_view(), name="register"),
    path("auth/jwt/create/", auth.LoginView.as_view(), name="jwt-create"),
    path("auth/jwt/refresh/", auth.RefreshView.as_view(), name="jwt-refresh"),
    path("auth/jwt/logout/", auth.LogoutView.as_view(), name="jwt-logout"),
    path("auth/me/", auth.MeView.as_view(), name="me"),
    path("auth/password/", auth.PasswordChangeView.as_view(), name="password-change"),
    path("accounts/", accounts.AccountListView.as_view(), name="accounts"),
    path("accounts/<str:account_number>/", accounts.AccountDetailView.as_view(), name="account-detail"),
    path("accounts/<str:account_number>/transactions/", accounts.StatementView.as_view(), name="account-statement"),
    path("accounts/<str:account_number>/deposit/", accounts.DepositView.as_view(), name="account-deposit"),
    path("accounts/<str:account_number>/cards/", accounts.AccountCardsView.as_view(), name="account-cards"),
    path("cards/<uuid:card_id>/", accounts.CardDetailView.as_view(), name="card-detail"),
    path("transfers/internal/", transfers.InternalTransferView.as_view(), name="transfers-internal"),
    path("transfers/external/", transfers.ExternalTransferView.as_view(), name="transfers-external"),
    path("transfers/<uuid:transaction_id>/", transfers.TransactionDetailView.as_view(), name="transfer-detail"),
    path("transfers/<uuid:transaction_id>/reverse/", transfers.ReverseView.as_view(), name="transfer-reverse"),
    path("fx/rates/", fx.FxRatesView.as_view(), name="fx-rates"),
    path("fx/quote/", fx.FxQuoteView.as_view(), name="fx-quote"),
    path("billers/", bills.BillerListView.as_view(), name="billers"),
    path("bill/", bills.BillView.as_view(), name="bills"),
    path("bill/<uuid:bill_id>/", bills.BillDetailView.as_view(), name="bill-detail"),
    path("approvals/", approvals.ApprovalListView.as_view(), name="approvals"),
    path("approvals/<uuid:approval_id>/", approvals.ApprovalDetailView.as_view(), name="approval-detail"),
    path("approvals/<uuid:approval_id>/approve/", approvals.ApprovalApproveView.as_view(), name="approval-approve"),
    path("approvals/<uuid:approval_id>/reject/", approvals.ApprovalRejectView.as_view(), name="approval-reject"),
    path("audit/", audit.AuditListView.as_view(), name="audit"),
]
