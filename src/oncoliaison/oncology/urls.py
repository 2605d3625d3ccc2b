from django.urls import path

from . import views

app_name = "oncology"
urlpatterns = [
    path("patients/<int:pk>/", views.cancer_summary, name="summary"),
    path("patients/<int:pk>/print/", views.cancer_summary_print, name="print"),
    path("import/", views.import_upload, name="import"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
]
